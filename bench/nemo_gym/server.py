"""Runs one NeMo Gym server's app.py (as `python app.py` does) with Ray
switched off: a server class that does not declare `ray_enabled` would start
a Ray cluster in its process, which nothing on the benchmark's path uses.
Started by env_start.py in place of `python app.py`.

    python server.py app.py
"""

import runpy
import sys

import nemo_gym.server_utils as server_utils

server_utils._server_uses_ray = lambda server_class: False

app = sys.argv[1]
sys.argv = [app, *sys.argv[2:]]
runpy.run_path(app, run_name="__main__")
