"""The Lua scripts of the storage layer as package data (loaded by ``storage.scripts``)."""
