"""The API's metrics: CloudWatch embedded metric format lines in the logs (Powertools).

Namespace from POWERTOOLS_METRICS_NAMESPACE, as the processor's, with the
"service" dimension upload-api. Each metric is written when it happens
(single_metric): the app serves many requests per process, so there is no
per-invocation flush to hang them on.
"""

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "upload-api"


def _emit(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=unit, value=value) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def stored(size_bytes: int, path: str) -> None:
    """A file stored: `path` is `json` (POST /upload) or `direct` (a completed direct upload)."""
    _emit("FilesStored", MetricUnit.Count, 1, path=path)
    _emit("BytesStored", MetricUnit.Bytes, size_bytes, path=path)


def rejected(reason: str) -> None:
    """A request refused with a 4xx, by its error code (quota_exceeded, file_too_large, ...)."""
    _emit("Rejections", MetricUnit.Count, 1, reason=reason)
