"""A throwaway certificate authority for ``--tls`` runs (trustme)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TlsFiles", "make_tls_files"]


@dataclass(frozen=True)
class TlsFiles:
    """The CA clients trust (``SSL_CERT_FILE``) and the server's key and certificate."""

    ca: Path
    server_pem: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """Create a CA and a certificate for 127.0.0.1 and localhost, valid for this run only."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost", "::1")
    files = TlsFiles(ca=folder / "ca.pem", server_pem=folder / "server.pem")
    authority.cert_pem.write_to_path(str(files.ca))
    certificate.private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
    return files
