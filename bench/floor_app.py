"""The floor for bench/county_bench.py: a bare slack-bolt app whose `/ecm` does nothing but ack and say "ok"
through the response_url, served the way `ecm-bot run` serves the bot (Starlette + uvicorn, Bolt's
synchronous dispatch in the thread pool). No database, no commands: what Bolt itself costs.

    SLACK_BOT_TOKEN=… SLACK_SIGNING_SECRET=… SLACK_API_URL=… python bench/floor_app.py --port 3100
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/ecm")
    def noop(ack: Any, respond: Any) -> None:
        ack()
        respond("ok")

    async def events(request: Request) -> Response:
        body = await request.body()
        return to_starlette_response(await run_in_threadpool(app.dispatch, to_bolt_request(request, body)))

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)])
    uvicorn.run(web, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
