"""Tests of the AWS infrastructure code in infra/: the CDK app synthesized offline and its templates checked."""
