"""FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sodan_ingress.service import Ingress


def get_ingress(request: Request) -> Ingress:
    ingress: Ingress = request.app.state.ingress
    return ingress


IngressDep = Annotated[Ingress, Depends(get_ingress)]
