"""``al-widgets``: serve the labeling app on your data, or export a label store.

    al-widgets demo                                   # built-in digits
    al-widgets serve reviews.csv --text-column review --label-column label --classes pos,neg
    al-widgets serve photos/ --classes cat,dog        # a folder of images (subfolders = labels)
    al-widgets serve tickets.csv --text-column text --label-column tags --multi-label   # tags: a|c
    al-widgets serve photos/ --host 0.0.0.0          # off loopback: prints a secret sign-in link
    al-widgets status data/reviews.csv.labels.sqlite  # labels per annotator and hour, open claims
    al-widgets export data/reviews.csv.labels.sqlite -o labels.csv
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from .app.config import AppConfig, default_store
from .app.data import ConfigError, load
from .app.report import export, status
from .core.store.safe_text import printable


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="al-widgets", description="Active learning labeling app (Voila).")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("serve", "demo"):
        s = sub.add_parser(name, help="serve the labeling app" if name == "serve" else "serve on digits")
        if name == "serve":
            s.add_argument("data", help="a CSV or Parquet file, or a folder of images")
            s.add_argument("--text-column", help="CSV column holding the text to label")
            s.add_argument("--label-column", help="CSV column with labels already known (may be partly empty)")
            s.add_argument("--id-column", help="CSV column with stable sample ids")
            s.add_argument("--embedding-column", help="column of precomputed embeddings (lists of floats; Parquet)")
            s.add_argument("--embeddings", help="an .npy matrix of precomputed embeddings, one row per CSV row "
                                                "(default: DATA.npy or DATA.embeddings.npy beside the CSV, if present)")
            s.add_argument("--classes", help="comma-separated class names, e.g. pos,neg (with --multi-label: the "
                                             "tags; optional when the label column names them)")
            s.add_argument("--dask", metavar="local|ADDRESS",
                           help="keep a Parquet pool on a Dask cluster: 'local' starts one on 127.0.0.1 for the "
                                "server's lifetime, an address (tcp://host:8786) connects to yours; needs --classes")
            s.add_argument("--multi-label", action="store_true",
                           help="a sample may carry several labels (tags): the label column holds them as a|c, "
                                "a blank cell is unlabeled; the model is one classifier per tag")
            s.add_argument("--model", default="auto", choices=["auto", "logreg", "gboost", "tfidf-logreg"])
            s.add_argument("--embedder", default="auto",
                           help="features of text and images: 'auto' (built-in, offline: a text embedding model; "
                                "colour and shape features for images), 'tfidf' (text), 'thumbnails' (images), "
                                "'module:function' (your own: a list of texts or image paths -> one row each), "
                                "'sentence-transformers:PATH' or 'model2vec:PATH' (installed, local; never downloaded)")
        s.add_argument("--store", default=None,
                       help="SQLite label store (created if missing; default data/<dataset>.labels.sqlite)")
        s.add_argument("--force", action="store_true",
                       help="reuse a label store written for another dataset or class list")
        s.add_argument("--strategy", default=AppConfig.strategy,
                       help=f"query strategy (default {AppConfig.strategy}: focused CLUE, switching to typical "
                            "samples while the model cannot rank and to a spread where features are mostly noise)")
        s.add_argument("--batch-size", type=int, default=6)
        s.add_argument("--budget", type=int, default=200)
        s.add_argument("--overlap", type=float, default=0.0,
                       help="share of samples labeled by two different annotators (agreement and conflict review)")
        s.add_argument("--audit", type=float, default=0.1,
                       help="share of labels drawn at random to estimate accuracy without a test set (default 0.1; "
                            "0 turns it off)")
        s.add_argument("--blind", action="store_true",
                       help="annotators never see the model's guesses or its learning curve (second opinions "
                            "on overlap samples never show the guess anyway)")
        s.add_argument("--port", type=int, default=8866)
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--auth", choices=["auto", "none", "token", "users"], default="auto",
                       help="sign-in: 'users' = personal links from 'al-widgets users add'; 'token' = one "
                            "shared secret link; 'auto' (default): 'users' if the store has users, else "
                            "'none' on 127.0.0.1 and 'token' anywhere else; 'none' is refused off loopback")
        s.add_argument("--no-umap", action="store_true", help="keep the PCA layout (skip UMAP)")
        s.add_argument("--warm-kernels", type=int, default=None, metavar="N",
                       help="kernels kept started with the app's imports done, so a page opens at once "
                            "(default 1, or AL_WIDGETS_WARM_KERNELS; 0 turns the pool off)")
        s.add_argument("--check", action="store_true", help="validate the data and exit without serving")
    u = sub.add_parser("users", help="named annotators: personal sign-in links (stored hashed beside the store)")
    u.add_argument("action", choices=["add", "list", "remove"])
    u.add_argument("name", nargs="?")
    u.add_argument("--store", required=True, help="the label store the users belong to")
    u.add_argument("--role", choices=["annotator", "admin"], default="annotator")
    u.add_argument("--url", default="http://127.0.0.1:8866/", help="the app's address, for the printed link")
    st = sub.add_parser("status", help="labels per annotator and per hour, and open claims, of a label store")
    st.add_argument("store")
    e = sub.add_parser("export", help="write a label store's labels as CSV")
    e.add_argument("store")
    e.add_argument("-o", "--output", default="-", help="CSV path (default: standard output)")
    e.add_argument("--all-annotators", action="store_true",
                   help="every annotator's label and every reviewer decision (one row each), not one label per sample")
    return p


def _config(args: argparse.Namespace) -> AppConfig:
    from .core import available_strategies
    if args.strategy not in available_strategies():
        raise ConfigError(f"unknown strategy {args.strategy!r}; choose one of {', '.join(available_strategies())}")
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if not 0 <= args.audit <= 0.5:
        raise ConfigError(f"--audit must be a share between 0 and 0.5, got {args.audit}")
    if not 0 <= args.overlap <= 1:
        raise ConfigError(f"--overlap must be a share between 0 and 1, got {args.overlap}")
    dataset = "digits" if args.command == "demo" else args.data
    store = args.store or default_store(dataset)
    cfg = AppConfig(store=str(Path(store).resolve()), strategy=args.strategy, batch_size=args.batch_size,
                    budget=args.budget, umap=not args.no_umap, allow_mismatch=args.force, overlap=args.overlap,
                    blind=args.blind, audit=args.audit)
    if args.command == "serve":
        cfg.dataset = str(Path(args.data).resolve())
        cfg.text_column, cfg.label_column, cfg.id_column = args.text_column, args.label_column, args.id_column
        cfg.embedding_column = args.embedding_column
        cfg.embeddings = str(Path(args.embeddings).resolve()) if args.embeddings else None
        cfg.classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
        cfg.model, cfg.embedder = args.model, args.embedder
        cfg.multi_label = args.multi_label
        cfg.dask = args.dask
        cfg.title = f"Labeling {Path(args.data).name}"
    return cfg


def check(cfg: AppConfig, data: Any) -> str:
    """Check the store the app would open (read-only) and train once in memory; a one-line report."""
    from .app import build_session
    from .core import LabelStore
    store_line = _check_store(cfg, data)
    session = build_session(cfg, data, store=LabelStore(None), background=False)
    try:
        res = session.retrain()
        if res is None:
            raise ConfigError(f"the model cannot be trained on this data: {session.status}")
        trained = f"cold start ({res.message})" if res.cold_start else f"trained on {res.n_labels} labels"
        kind = "tags" if data.pool.task == "multilabel" else "classes"
        return (f"ok: {data.pool.n} samples, {kind} {data.pool.classes}; {trained}; features: {data.features}; "
                f"{store_line}")
    finally:
        session.close()


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`ConfigError` when ``host:port`` cannot be bound (another server holds it)."""
    import socket
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        # as tornado binds: connections of a stopped server in TIME-WAIT do not hold the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                              "(is another server running there? pick another --port)") from None


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def users_command(args: argparse.Namespace) -> int:
    """``al-widgets users add|list|remove``."""
    from .app.users import Users, users_path
    users = Users(users_path(Path(args.store).resolve()))
    if args.action == "list":
        people = users.load()
        if not people:
            print(f"no users for {args.store} yet: add some with 'al-widgets users add NAME --store {args.store}'",
                  file=sys.stderr)
        for name, info in sorted(people.items()):
            print(f"{name}\t{info.get('role', 'annotator')}")
        return 0
    if not args.name:
        raise ConfigError(f"users {args.action} needs a NAME")
    if args.action == "remove":
        users.remove(args.name)
        print(f"removed {args.name}; their link no longer signs in")
        return 0
    key = users.add(args.name, args.role)
    url = args.url if args.url.endswith("/") else args.url + "/"
    print(f"{args.name} ({args.role}): {url}?key={key}")
    print("give this link to that person only: it signs them in, and their labels carry their name",
          file=sys.stderr)
    return 0


def resolve_auth(host: str, auth: str, store: str) -> str:
    """'users', 'token' or 'none' for this host and store (see ``serve --help``)."""
    from .app.users import Users, users_path
    has_users = bool(Users(users_path(store)).load())
    if auth == "auto":
        auth = "users" if has_users else ("none" if host in LOOPBACK else "token")
    if auth == "users" and not has_users:
        raise ConfigError(f"no users for {store}: add some with 'al-widgets users add NAME --store {store}'")
    if auth == "none" and host not in LOOPBACK:
        raise ConfigError(f"serving on {host} needs sign-in: drop --auth none (a secret link is made) "
                          "or serve on 127.0.0.1")
    return auth


def auth_token(mode: str) -> str | None:
    """The shared secret for ``--auth token`` (``AL_WIDGETS_TOKEN`` or a new one); ``None`` otherwise."""
    import secrets
    return (os.environ.get("AL_WIDGETS_TOKEN") or secrets.token_urlsafe(24)) if mode == "token" else None


def voila_command(notebook: Path, host: str, port: int, token: str | None = None,
                  users: bool = False) -> list[str]:
    """The hardened Voila command line: no tracebacks for visitors, idle unconnected kernels culled.

    A kernel no page is connected to (a plain GET, a closed tab) is shut down after
    ``AL_WIDGETS_CULL_IDLE`` seconds of idleness (default 120).
    """
    idle = max(int(os.environ.get("AL_WIDGETS_CULL_IDLE", "120")), 1)
    every = max(min(idle // 4, 20), 1)
    return [sys.executable, "-m", "al_widgets.app.voila_main", str(notebook), f"--Voila.ip={host}", f"--port={port}",
            "--no-browser", "--Voila.port_retries=0", "--show_tracebacks=False",
            f"--MappingKernelManager.cull_idle_timeout={idle}", f"--MappingKernelManager.cull_interval={every}",
            "--MappingKernelManager.cull_connected=False", f"--token={token or ''}"] + \
        (["--Voila.identity_provider_class=al_widgets.app.auth.PersonalLinkIdentityProvider"] if users else [])


def _wait_listening(proc: subprocess.Popen, host: str, port: int, timeout: float = 120.0) -> bool:
    import socket
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), 1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


KERNEL_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Native thread pools the served kernels start with one thread each (unless the environment says
otherwise): every page has its own kernel, and on a few cores their OpenMP and BLAS threads spin
against each other (two kernels' retrains 0.5-0.7 s instead of 0.02-0.03 s: ``benchmarks/bench_threads.py``)."""


def serve(cfg: AppConfig, host: str, port: int, auth: str = "auto", warm_kernels: int | None = None) -> int:
    """Write the config and the app notebook next to the store and run Voila on them.

    ``warm_kernels`` (default: ``AL_WIDGETS_WARM_KERNELS`` or 1) import-warmed kernels wait for
    the next page (``app/warm.py``).

    "serving at" is printed only once Voila listens; a busy port is an error before that.
    """
    from .app.notebook import write_app_notebook
    from .app.users import users_path
    mode = resolve_auth(host, auth, cfg.store)
    token = auth_token(mode)
    check_port_free(host, port)
    run_dir = Path(cfg.store).parent / ".al_widgets_app"
    config_path = cfg.save(run_dir / "config.json")
    notebook = write_app_notebook(run_dir / "labeling_app.ipynb")
    env = dict(os.environ, AL_WIDGETS_CONFIG=str(config_path), AL_WIDGETS_PARENT_PID=str(os.getpid()))
    map_env = dict(env)  # the map's one-off precompute keeps the libraries' defaults (UMAP uses every core)
    env.update({var: os.environ.get(var, "1") for var in KERNEL_THREAD_VARS})
    if warm_kernels is not None:
        env["AL_WIDGETS_WARM_KERNELS"] = str(warm_kernels)
    if mode == "users":
        env["AL_WIDGETS_USERS"] = str(users_path(cfg.store))
    import signal
    import threading

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    # SIGTERM (a service manager, `kill`) ends the server like Ctrl+C: children never outlive it
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main_thread else None
    proc = subprocess.Popen(voila_command(notebook, host, port, token, users=mode == "users"), env=env)
    warm = subprocess.Popen([sys.executable, "-m", "al_widgets.app.precompute", str(config_path)], env=map_env) \
        if cfg.umap else None  # the first page's map switches to UMAP as soon as this lands in the cache
    try:
        if not _wait_listening(proc, host, port):
            code = proc.poll()
            if code is None:
                proc.terminate()
            print(f"al-widgets: error: the server did not start on {host}:{port}", file=sys.stderr)
            return 2 if code in (None, 0) else code
        link = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        hint = {"token": "; share this link only with the experts: it signs them in",
                "users": "; each person opens their own link from 'al-widgets users add'"}.get(mode, "")
        print(f"al_widgets: serving the labeling app at {link}  (labels -> {cfg.store}; Ctrl+C stops){hint}",
              flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(10)
        return 0
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        if warm is not None and warm.poll() is None:
            warm.terminate()


@contextlib.contextmanager
def _cluster(cfg: AppConfig) -> Any:
    """``--dask local``: a local cluster for as long as the command runs (its address in ``cfg.dask``
    for the pages' kernels); any other value is a scheduler address, used as it is."""
    if cfg.dask != "local":
        yield None
        return
    from .app.cluster import close_clients, start_local
    cluster = start_local()
    cfg.dask = cluster.scheduler_address
    try:
        yield cluster
    finally:
        cfg.dask = "local"
        close_clients()
        cluster.close()


def _check_store(cfg: AppConfig, data: Any) -> str:
    """Open the store read-only before serving: a sound SQLite file, ours, bound to this dataset.

    Raises :class:`ConfigError` with one line naming the problem; returns a one-line summary.
    """
    import sqlite3

    from .core import LabelStore
    path = Path(cfg.store)
    if not path.exists():
        return f"store {path} will be created"
    if not path.is_file():
        raise ConfigError(f"label store {path} is not a regular file")
    try:
        with LabelStore(path, readonly=True) as st:
            damage = st.quick_check()
            if damage:
                raise ConfigError(f"label store {path} is damaged ({damage}); restore it from a backup or "
                                  "serve with another --store")
            problem = st.binding_problem(data.pool.identity(), data.pool.name, data.pool.classes)
            n = st.newest_seq()
    except sqlite3.Error as exc:
        raise ConfigError(" ".join(str(exc).split())) from None
    if problem and not cfg.allow_mismatch:
        raise ConfigError(problem)
    return f"store {path}: {n} events, sound"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            return export(args.store, args.output, args.all_annotators)
        if args.command == "status":
            return status(args.store)
        if args.command == "users":
            return users_command(args)
        if getattr(args, "warm_kernels", None) is not None and args.warm_kernels < 0:
            raise ConfigError(f"--warm-kernels must be 0 or more, got {args.warm_kernels}")
        cfg = _config(args)
        with _cluster(cfg):
            data = load(cfg)  # fail fast, before Voila starts, with a one-line message
            if args.check:
                print(check(cfg, data))
                return 0
            _check_store(cfg, data)
            return serve(cfg, args.host, args.port, args.auth, warm_kernels=args.warm_kernels)
    except (ConfigError, ValueError, OSError, sqlite3.Error) as exc:  # StoreMismatch is a ValueError
        print(f"al-widgets: error: {printable(' '.join(str(exc).split()))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
