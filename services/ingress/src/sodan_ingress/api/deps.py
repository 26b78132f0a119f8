"""FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sodan_ingress.service import Ingress


async def get_ingress(request: Request) -> Ingress:
    # async: FastAPI runs a plain def dependency in a worker thread, a thread hop per webhook
    ingress: Ingress = request.app.state.ingress
    return ingress


IngressDep = Annotated[Ingress, Depends(get_ingress)]
