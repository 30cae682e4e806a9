"""Readiness for the Lambda Web Adapter: no authentication, no AWS calls."""

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health", summary="Readiness check")
async def health() -> dict[str, str]:
    return {"status": "ok"}
