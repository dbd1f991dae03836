"""A health route for load balancers and Kubernetes probes.

``room.ahealth()`` checks every configured database and storage concurrently, each under a
deadline, and never raises. The route answers 200 while every component is healthy or
degraded (a degraded pool still serves requests: taking the pod out would only move its load)
and 503 when any is unhealthy. Messages are redacted when a result is made; ``verbose=False``
leaves them (and the details) out for a route the public can reach.
"""

from typing import Any

from fastapi.responses import JSONResponse

from fastapi import APIRouter
from storeroom import HealthStatus, Storeroom
from storeroom.health import HealthResult, worst_status
from storeroom_fastapi.dependencies import RoomDep

__all__ = ["health_report", "health_response", "health_router"]


def health_report(results: dict[str, HealthResult], *, verbose: bool = True) -> dict[str, Any]:
    """``{"status": ..., "components": {name: {...}}}`` for a ``room.ahealth()`` result."""
    status = worst_status([r.status for r in results.values()])
    if verbose:
        components = {name: r.to_dict() for name, r in results.items()}
    else:
        components = {name: {"status": str(r.status)} for name, r in results.items()}
    return {"status": str(status), "components": components}


async def health_response(room: Storeroom, *, timeout: float = 5.0, verbose: bool = True) -> JSONResponse:
    """200 when nothing is unhealthy, 503 otherwise, with :func:`health_report` as the body."""
    results = await room.ahealth(timeout)
    body = health_report(results, verbose=verbose)
    code = 503 if body["status"] == HealthStatus.UNHEALTHY else 200
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


def health_router(path: str = "/health", *, timeout: float = 5.0, verbose: bool = True, **route: Any) -> APIRouter:
    """An ``APIRouter`` with ``GET path`` (and HEAD) answering :func:`health_response`;
    ``app.include_router(health_router())``. Extra keywords go to the route (``tags=``, ...)."""
    router = APIRouter()

    async def health(room: RoomDep) -> JSONResponse:
        return await health_response(room, timeout=timeout, verbose=verbose)

    route.setdefault("summary", "Health of every configured database and storage")
    router.add_api_route(
        path,
        health,
        methods=["GET", "HEAD"],
        response_class=JSONResponse,
        responses={503: {"description": "a database or storage is unhealthy"}},
        **route,
    )
    return router
