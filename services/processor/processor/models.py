"""Powertools parser models for the one stream record the state machine passes in."""

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel,
    DynamoDBStreamRecordModel,
)
from pydantic import BaseModel, ConfigDict, Field

from processor.rules import UploadedFile


class FileImage(BaseModel):
    """The metadata item as written by the upload API (extra attributes are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    file_id: str = Field(min_length=1)
    # The object's key derives from these; an item without them is refused unread.
    owner: str = ""
    file_name: str = ""
    bucket: str = Field(min_length=3)
    s3_key: str = Field(min_length=1)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    content_type: str = Field(min_length=1)
    status: str

    def to_uploaded_file(self) -> UploadedFile:
        return UploadedFile(
            file_id=self.file_id,
            bucket=self.bucket,
            s3_key=self.s3_key,
            size_bytes=self.size_bytes,
            sha256=self.sha256,
            content_type=self.content_type,
            owner=self.owner,
            file_name=self.file_name,
        )


class FileKeys(BaseModel):
    file_id: str = Field(min_length=1)


class FileChange(DynamoDBStreamChangedRecordModel):
    Keys: FileKeys  # type: ignore[assignment]  # narrowed from the base's dict
    NewImage: FileImage | None = None


class FileStreamRecord(DynamoDBStreamRecordModel):
    """One record of the Pipe's array; only INSERTs pass the filter."""

    eventName: Literal["INSERT", "MODIFY", "REMOVE"]  # noqa: N815 - the AWS field name
    dynamodb: FileChange
