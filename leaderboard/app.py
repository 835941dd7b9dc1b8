"""EST leaderboard: `python leaderboard/app.py` serves it locally; on a Hugging Face Space this is the app_file.

Configuration comes from environment variables, all read in est_leaderboard/settings.py (see its table).
Locally the gold labels are those of the locally built dataset (the gold file of a --blind_test build of est/, else
the built est/ test split); on a Space they are downloaded from a private dataset repo with the Space's secret token.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from est_leaderboard.service import Leaderboard
from est_leaderboard.settings import Settings
from est_leaderboard.ui import build_app
from est_leaderboard.uploads import UploadGuard, UploadLedger
from estbench.cli import add_option, positive_int
from estbench.gold import GoldError
from estbench.layout import TRACKS


def _check_port_is_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is not "in use"
        try:
            probe.bind((host, port))
        except OSError:
            raise SystemExit(f"error: port {port} on {host} is in use; pick another with --port N "
                             "(or EST_LB_PORT / GRADIO_SERVER_PORT)") from None


def main(argv: list[str] | None = None) -> None:
    try:
        settings = Settings.from_env()
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    parser = argparse.ArgumentParser(description="Serve the EST leaderboard (Gradio).")
    add_option(parser, "host", default=settings.host, help="interface to bind (default: %(default)s)")
    add_option(parser, "port", type=positive_int, default=settings.port,
                        help="port (default: %(default)s; EST_LB_PORT or GRADIO_SERVER_PORT set it too)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    _check_port_is_free(args.host, args.port)
    leaderboard = Leaderboard(settings)
    for track in TRACKS:  # load the gold at start-up: a missing or broken gold fails here, not on a user's upload
        try:
            gold = leaderboard.gold(track)
        except (GoldError, RuntimeError) as err:
            raise SystemExit(f"error: cannot load the gold labels of the {track} track: {err}\n"
                             "Build the dataset first (python est_dataset.py build --blind_test) or set EST_LB_GOLD "
                             "(a gold parquet file or a built est/ folder) or EST_LB_GOLD_REPO.") from None
        logging.info("gold of the %s track: version %s, %d rows (%d public)", track, gold.version, len(gold),
                     gold.public.sum())
    # Gradio's upload and cache folder is the app's own: emptied now (uploads of an earlier run are no one's),
    # swept every minute, guarded at the upload route (est_leaderboard.uploads).
    os.environ["GRADIO_TEMP_DIR"] = str(settings.upload_dir)
    uploads = UploadLedger(settings.upload_dir, ttl_s=settings.upload_ttl_s, quota_bytes=settings.upload_quota_bytes,
                           total_bytes=settings.upload_total_bytes)
    uploads.wipe()
    for note in leaderboard.seed_baselines():
        logging.info("%s", note)
    demo = build_app(leaderboard, uploads)
    # files Gradio cached for what the page hands out (templates, exports) are never moved or deleted
    uploads.keep = lambda: {path for files in demo.temp_file_sets if files is not demo.upload_file_set
                            for path in files}
    uploads.start_sweeping(min(60.0, settings.upload_ttl_s / 2))
    demo.queue(default_concurrency_limit=4)
    # The data dir and the gold (a local file or folder, or the file fetched from the Hub on a Space) are never
    # served, whatever path a request names.
    blocked = [str(settings.data_dir.resolve()), str(leaderboard.gold_source().resolve())]
    # show_error=False: an unexpected exception is logged, never shown (its text could name server paths)
    from starlette.middleware import Middleware

    guard = Middleware(UploadGuard, ledger=uploads, max_bytes=settings.max_bytes, on_space=settings.on_space)
    demo.launch(server_name=args.host, server_port=args.port, show_error=False, ssr_mode=False,
                max_file_size=settings.max_bytes, blocked_paths=blocked, app_kwargs={"middleware": [guard]})


if __name__ == "__main__":
    main()
