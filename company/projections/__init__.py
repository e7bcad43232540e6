"""One module per group of source systems; each turns the model into those systems' native records."""
