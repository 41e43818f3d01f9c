"""The eval stage: accuracy with intervals, decode rate, latency, and the study's tables."""
