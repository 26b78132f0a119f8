"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sodan_ingress.api.deps import IngressDep

router = APIRouter()


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="NATS is connected and the database answers")
async def readyz(ingress: IngressDep) -> JSONResponse:
    nats_ok = ingress.nc is not None and ingress.nc.is_connected
    try:
        async with asyncio.timeout(2.0), ingress.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        db_ok = True
    except Exception:  # any failure means not ready; the probe must never raise
        db_ok = False
    checks = {"nats": "ok" if nats_ok else "down", "database": "ok" if db_ok else "down"}
    return JSONResponse(
        {"status": "ready" if nats_ok and db_ok else "not_ready", **checks},
        status_code=200 if nats_ok and db_ok else 503,
    )
