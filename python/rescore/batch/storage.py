"""Remote storage (``s3://``, ``gs://``, ``hf://``, any fsspec protocol) wherever a path is taken.

:func:`as_path` turns what the user typed into a :class:`pathlib.Path` (local paths, unchanged)
or a :class:`RemotePath`, which answers the part of ``Path``'s interface the job uses (``name``,
``suffix``, ``parent``, ``/``, ``exists``, ``is_dir``, ``rglob``, ``iterdir``, ``stat``,
``open``, ``unlink``, ``mkdir``), so readers and writer take either.

File systems: pyarrow's own where it has one (``s3``, ``gs``/``gcs``, ``hdfs``: faster, no
extra dependency), fsspec's otherwise (``memory``, ``hf`` through ``huggingface_hub``, ``az``
through ``adlfs``, ...), wrapped as a pyarrow file system. Credentials and endpoints come only
from the standard environment and configuration files (``AWS_ACCESS_KEY_ID``,
``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``, ``~/.aws/config``,
``GOOGLE_APPLICATION_CREDENTIALS``, ``STORAGE_EMULATOR_HOST``, ``HF_TOKEN``, ...), never from
rescore's options; a ``RemotePath`` holds only its URI (credentials are never pickled, logged
or written to a manifest). A path that does not exist raises :class:`FileNotFoundError`, one
the credentials do not allow :class:`PermissionError`, each naming the URI (never a
credential). On S3, small objects are written with one ``PutObject``
(``allow_delayed_open``): an object appears only once complete, so a part is never seen
half-written.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Union

import pyarrow.fs as pafs

from rescore.exceptions import InvalidOptionError

URI = re.compile(r"^(?P<protocol>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<rest>.*)$")
_ARROW = {"s3", "gs", "gcs", "hdfs"}
_EXTRAS = {"hf": "hf"}
"""The extra that installs a protocol's fsspec file system (others: fsspec's message names
the package, e.g. adlfs for az://)."""


@functools.cache
def filesystem(protocol: str) -> pafs.FileSystem:
    """The file system for ``protocol`` (one per process), from the standard configuration."""
    if protocol == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        kwargs: dict[str, Any] = {"allow_delayed_open": True}
        if endpoint:  # pyarrow's own reading of these variables varies by version: read them here
            kwargs["endpoint_override"] = endpoint
        if region:
            kwargs["region"] = region
        return pafs.S3FileSystem(**kwargs)
    if protocol in ("gs", "gcs"):
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        if emulator:  # Google's clients read this for a local server; pyarrow's does not
            m = re.match(r"^(?:(?P<scheme>https?)://)?(?P<host>[^/]+)/?$", emulator)
            if m is None:
                msg = (
                    f"STORAGE_EMULATOR_HOST must be host:port or http://host:port, got {emulator!r}"
                )
                raise InvalidOptionError(msg)
            return pafs.GcsFileSystem(
                anonymous=True,
                scheme=m.group("scheme") or "http",
                endpoint_override=m.group("host"),
            )
        return pafs.GcsFileSystem()
    if protocol == "hdfs":
        msg = "hdfs:// paths need pyarrow's HadoopFileSystem: open them with a full URI"
        raise InvalidOptionError(msg)
    try:
        import fsspec
    except ImportError:
        msg = (
            f"{protocol}:// paths need fsspec (pip install 'rescore[remote]', or "
            "'rescore[hf]' for hf://)"
        )
        raise InvalidOptionError(msg) from None
    try:
        fs = fsspec.filesystem(protocol)
    except ImportError as e:
        extra = _EXTRAS.get(protocol, "remote")
        msg = f"{protocol}:// paths need pip install 'rescore[{extra}]' ({e})"
        raise InvalidOptionError(msg) from None
    except ValueError as e:
        msg = f"no file system for {protocol}:// ({e})"
        raise InvalidOptionError(msg) from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


@dataclass(frozen=True)
class _Stat:
    st_size: int


class RemotePath:
    """A file or directory on a remote (or in-memory) file system, by URI.

    >>> p = RemotePath("memory://bucket/run/samples.jsonl")
    >>> (p.name, p.suffix, str(p.parent))
    ('samples.jsonl', '.jsonl', 'memory://bucket/run')
    """

    def __init__(self, uri: str) -> None:
        m = URI.match(uri)
        if m is None:
            msg = f"{uri!r} is not a URI (protocol://path)"
            raise InvalidOptionError(msg)
        self.protocol = m.group("protocol").lower()
        self.key = m.group("rest").rstrip("/")
        self.uri = f"{self.protocol}://{self.key}"

    # -- identity -----------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"RemotePath({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __lt__(self, other: RemotePath) -> bool:
        return self.uri < other.uri

    def __reduce__(self) -> tuple[Any, ...]:
        return (RemotePath, (self.uri,))

    # -- pure path operations -----------------------------------------------------------------

    @property
    def _pure(self) -> PurePosixPath:
        return PurePosixPath("/" + self.key)

    @property
    def name(self) -> str:
        return self._pure.name

    @property
    def suffix(self) -> str:
        return self._pure.suffix

    @property
    def parts(self) -> tuple[str, ...]:
        return self._pure.parts[1:]

    @property
    def parent(self) -> RemotePath:
        return RemotePath(f"{self.protocol}://{str(self._pure.parent).lstrip('/')}")

    def __truediv__(self, name: str) -> RemotePath:
        return RemotePath(f"{self.uri}/{name}")

    def with_name(self, name: str) -> RemotePath:
        return self.parent / name

    def relative_to(self, other: RemotePath) -> PurePosixPath:
        return self._pure.relative_to(other._pure)

    def resolve(self) -> RemotePath:
        return self

    def expanduser(self) -> RemotePath:
        return self

    # -- file system --------------------------------------------------------------------------

    @property
    def fs(self) -> pafs.FileSystem:
        return filesystem(self.protocol)

    @property
    def fs_path(self) -> str:
        """The path as the file system names it."""
        return self.key

    def _info(self) -> pafs.FileInfo:
        try:
            return self.fs.get_file_info(self.fs_path)
        except OSError as e:
            raise _remote_error(self.uri, "cannot be read", e) from None

    def exists(self) -> bool:
        return bool(self._info().type != pafs.FileType.NotFound)

    def is_dir(self) -> bool:
        return bool(self._info().type == pafs.FileType.Directory)

    def is_file(self) -> bool:
        return bool(self._info().type == pafs.FileType.File)

    def stat(self) -> _Stat:
        info = self._info()
        if info.type == pafs.FileType.NotFound:
            msg = f"{self.uri} does not exist"
            raise FileNotFoundError(msg)
        return _Stat(int(info.size or 0))

    def _files(self, recursive: bool) -> Iterator[RemotePath]:
        selector = pafs.FileSelector(self.fs_path, recursive=recursive, allow_not_found=True)
        base = self.fs_path.strip("/")
        try:
            infos = self.fs.get_file_info(selector)
        except OSError as e:
            raise _remote_error(self.uri, "cannot be listed", e) from None
        for info in infos:
            if recursive and info.type != pafs.FileType.File:
                continue
            found = info.path.strip("/")  # fsspec's in-memory file system adds a leading "/"
            if not found.startswith(base + "/"):
                continue
            yield self / found[len(base) + 1 :]

    def rglob(self, pattern: str) -> Iterator[RemotePath]:
        """Every file under this directory (``pattern`` must be ``*``)."""
        return self._files(recursive=True)

    def iterdir(self) -> Iterator[RemotePath]:
        return self._files(recursive=False)

    def open(self, mode: str = "rb") -> Any:
        """A pyarrow file: ``rb`` random access, ``wb`` a stream whose object appears on
        close."""
        try:
            if mode == "rb":
                return self.fs.open_input_file(self.fs_path)
            if mode == "wb":
                return self.fs.open_output_stream(self.fs_path)
        except FileNotFoundError:
            msg = f"{self.uri} does not exist"
            raise FileNotFoundError(msg) from None
        except OSError as e:
            raise _remote_error(self.uri, "cannot be opened", e) from None
        msg = f"mode {mode!r} is not supported on remote paths"
        raise ValueError(msg)

    def read_bytes(self) -> bytes:
        with self.open("rb") as f:
            return bytes(f.read())

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> None:
        """Write the file whole (on S3, with ``allow_delayed_open``, one request on close)."""
        try:
            with self.open("wb") as f:
                f.write(data)
        except OSError as e:  # the request fails on close
            if str(e).startswith(self.uri):  # already named
                raise
            raise _remote_error(self.uri, "cannot be written", e) from None

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.delete_file(self.fs_path)
        except FileNotFoundError:
            if not missing_ok:
                raise
        except OSError as e:
            raise _remote_error(self.uri, "cannot be deleted", e) from None

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Object stores have no directories; file systems that do get one. A missing bucket
        is not created."""
        try:
            self.fs.create_dir(self.fs_path, recursive=True)
        except OSError as e:
            raise _remote_error(self.uri, "cannot be created", e) from None


_DENIED = re.compile(
    r"ACCESS_DENIED|AccessDenied|INVALID_ACCESS_KEY_ID|SIGNATURE_DOES_NOT_MATCH|"
    r"InvalidAccessKeyId|SignatureDoesNotMatch|Forbidden|\b403\b|\b401\b|[Pp]ermission denied"
)
_MISSING = re.compile(r"NO_SUCH_BUCKET|NoSuchBucket|[Bb]ucket '[^']*' not found|\b404\b")


def _remote_error(uri: str, what: str, e: OSError) -> OSError:
    """``e`` as an error naming ``uri`` (never a credential): :class:`PermissionError` when the
    store denied access, :class:`FileNotFoundError` for a missing bucket, else
    :class:`OSError`."""
    # pyarrow's advice on a missing bucket names an option rescore does not have
    detail = _clean(e).replace(" To create buckets, enable the allow_bucket_creation option.", "")
    if isinstance(e, PermissionError) or _DENIED.search(detail):
        return PermissionError(
            f"{uri}: access denied ({detail}); check the credentials in the environment "
            "(AWS_ACCESS_KEY_ID, AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, HF_TOKEN, ...)"
        )
    if isinstance(e, FileNotFoundError) or _MISSING.search(detail):
        return FileNotFoundError(f"{uri} does not exist ({detail})")
    return OSError(f"{uri}: {what} ({detail})")


def _clean(e: Exception) -> str:
    """An error's text without anything that looks like a credential."""
    text = str(e)
    return re.sub(r"(?i)(key|secret|token|signature|credential)[^\s,;]*=[^\s,;&]+", r"\1=***", text)


AnyPath = Union[Path, RemotePath]  # noqa: UP007 (a runtime alias used in isinstance-free code)


def as_path(value: str | os.PathLike[str] | RemotePath) -> AnyPath:
    """A local :class:`~pathlib.Path` (``~`` expanded) or a :class:`RemotePath` for a URI.
    ``file://`` URIs are local paths."""
    if isinstance(value, RemotePath):
        return value
    text = os.fspath(value)
    m = URI.match(text)
    if m is None:
        return Path(text).expanduser()
    if m.group("protocol").lower() == "file":
        return Path(m.group("rest")).expanduser()
    return RemotePath(text)


def arrow_source(path: AnyPath) -> Any:
    """What pyarrow's readers take: a local file's path (pyarrow opens and closes it), or an
    open pyarrow file for a remote one."""
    return path.open("rb") if isinstance(path, RemotePath) else str(path)


def is_remote(path: object) -> bool:
    """Whether ``path`` is a :class:`RemotePath`."""
    return isinstance(path, RemotePath)


__all__ = ["AnyPath", "RemotePath", "arrow_source", "as_path", "filesystem", "is_remote"]
