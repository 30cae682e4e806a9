"""Structured JSON logs (Powertools Logger). Never log a token or file content."""

from aws_lambda_powertools import Logger

logger = Logger(service="upload-api")
