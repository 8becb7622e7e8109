"""The wire contract shared by server, storage, client, CLI and console.

Facts every part must agree on live here once: identifier patterns and the vocabularies
of roles, user states and version statuses. No crypto, HTTP or Redis: any layer may
import it (an import-linter contract keeps it that way).
"""
