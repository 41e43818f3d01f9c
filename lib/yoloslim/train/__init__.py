"""Training stages: the base model and width variants, sparse training, fine-tuning."""
