"""The lakehouse's AWS infrastructure (AWS CDK, Python): one stack per environment, plus a DR replica stack."""
