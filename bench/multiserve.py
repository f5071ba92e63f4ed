"""Serve an ASGI app with several uvicorn processes sharing one listening socket that keeps TCP_NODELAY.

``python multiserve.py MODULE:APP --port P --workers N [--lifespan off]`` (uvicorn must be importable).
Why not ``uvicorn --workers N``: uvicorn 0.54 binds that shared socket with ``proto`` 0, so the connections it
accepts never get TCP_NODELAY and each keep-alive answer after the first waits for the client's delayed ACK
(about 40 ms on Linux; uvicorn issue #3149). Measured here: fhirstarter answers one client in 1 ms with one
worker and in 44 ms with ``--workers 2``. This launcher binds the socket as TCP, so both peers are measured
without that artefact.
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lifespan", default="auto")
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.set_inheritable(True)
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            config = uvicorn.Config(args.app, access_log=False, log_level="warning", lifespan=args.lifespan,
                                    backlog=2048)
            uvicorn.Server(config).run(sockets=[listener])
            os._exit(0)
        children.append(pid)
    # The caller stops the whole process group; until then, wait for the workers.
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
