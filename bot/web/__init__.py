"""HTTP entrypoints: the aiohttp app factory, health, the action endpoint."""
