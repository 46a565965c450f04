"""Where the chunks and their vectors live.

The default is the index folder (FAISS + bm25s files, `qa.index`). `qa.stores.postgres`
keeps the same index in a PostgreSQL database with pgvector, so that many chat servers
can share one corpus. Nothing is imported here: a store's module loads its client
library only when it is used.
"""


def check_store_uri(uri: str) -> None:
    """`ConfigError` naming ``uri`` unless it names a store this package can serve from."""
    from qa.errors import ConfigError
    from qa.stores.postgres import check_uri

    try:
        check_uri(uri)
    except ValueError as err:
        raise ConfigError(f"--store / QA_STORE: {err}") from None
