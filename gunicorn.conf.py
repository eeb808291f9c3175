"""gunicorn's settings for Gonggan (read from the working directory, or `-c gunicorn.conf.py`).

Only logging lives here: gunicorn's own lines ("Booting worker", "Worker timeout") come out as
the app's do, one JSON object per line (app/logs.py), with LOG_FORMAT=text for readable ones.
Workers, threads and the address are given on the command line or by gunicorn's environment
variables (WEB_CONCURRENCY, GUNICORN_CMD_ARGS); see docs/deployment.md.
"""

import os

_format = os.environ.get("LOG_FORMAT", "json")
_level = os.environ.get("LOG_LEVEL", "INFO").upper()

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "app.logs.JsonFormatter"},
        "text": {"()": "app.logs.TextFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "text" if _format == "text" else "json",
        },
    },
    "root": {"level": _level, "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": _level, "handlers": ["stderr"], "propagate": False},
        # The app logs each request itself, with its id and route (LOG_REQUESTS).
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}
