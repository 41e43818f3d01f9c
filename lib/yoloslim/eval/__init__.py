"""The eval stage: every model measured the same way (`yoloslim.measure`), its decode rate, and the study's tables."""
