"""The NeuralLog client SDK: async (:class:`AsyncNeuralLogClient`) and sync
(:class:`NeuralLogClient`) clients, wire models and the legacy reader."""

from __future__ import annotations

from neurallog.client.client import AsyncNeuralLogClient
from neurallog.client.legacy import LegacyReader, read_legacy_entries
from neurallog.client.locate import bootstrap_token_tenant, default_server_url
from neurallog.client.logs import DeprecatedVersionWarning
from neurallog.client.models import (
    AuditCheckpoint,
    AuditPage,
    AuditRecord,
    AuditVerdict,
    Blob,
    BootstrapResult,
    CatalogueLog,
    Credentials,
    Entry,
    IntegrityFinding,
    Key,
    LogData,
    LogEntry,
    LogPage,
    Profile,
    RewrapProgress,
    RewrapReport,
    RotationDue,
    RotationResult,
    Tenant,
    User,
    Version,
)
from neurallog.client.sync import NeuralLogClient
from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog.crypto.mnemonic import wordlist as mnemonic_wordlist
from neurallog.crypto.shares import ShareCollector, ShareProgress, ShareScheme
from neurallog.crypto.strength import WeakKdfWarning, weak_kdf_message

__all__ = [
    "AsyncNeuralLogClient",
    "AuditCheckpoint",
    "AuditPage",
    "AuditRecord",
    "AuditVerdict",
    "Blob",
    "BootstrapResult",
    "CatalogueLog",
    "Credentials",
    "DeprecatedVersionWarning",
    "Entry",
    "IntegrityFinding",
    "Key",
    "LegacyReader",
    "LogData",
    "LogEntry",
    "LogPage",
    "NeuralLogClient",
    "Profile",
    "RewrapProgress",
    "RewrapReport",
    "RotationDue",
    "RotationResult",
    "ShareCollector",
    "ShareProgress",
    "ShareScheme",
    "Tenant",
    "User",
    "Version",
    "WeakKdfWarning",
    "bootstrap_token_tenant",
    "default_server_url",
    "generate_mnemonic",
    "mnemonic_wordlist",
    "read_legacy_entries",
    "weak_kdf_message",
]
