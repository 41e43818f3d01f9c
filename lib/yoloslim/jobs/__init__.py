"""Running studies as jobs: Snakemake's lock, GPUs per job, the kill-and-rerun check."""
