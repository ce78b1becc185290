#!/usr/bin/env python3
"""Starts a search server and prints how long after the start its first search answered with
hits, as JSON ({"restart_first_search_seconds": S}), then stops it. Used by
restart-first-search.sh and bench-side-by-side.sh.

    scripts/first-search.py PORT INDEX QUERY -- BINARY [ARGS...]
"""
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def main():
    port, index, query = sys.argv[1], sys.argv[2], sys.argv[3]
    if sys.argv[4] != "--":
        sys.exit(__doc__)
    command = sys.argv[5:]
    url = f"http://127.0.0.1:{port}/indexes/{index}/search?q={urllib.parse.quote(query)}"
    start = time.monotonic()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=os.environ.get("FIRST_SEARCH_CWD"))
    try:
        while True:
            if server.poll() is not None:
                sys.exit(f"the server exited with {server.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200 and json.load(response)["hits"]:
                        break
            except Exception:
                pass
            time.sleep(0.005)
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait()
    print(json.dumps({"restart_first_search_seconds": elapsed}))


main()
