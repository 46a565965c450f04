"""A built index opened with LlamaIndex's own retrievers.

Questions never go through here (`qa.retrieve` reads the same files without LlamaIndex);
this is the plain stack that the fast path is checked against (``tests/test_retrieve.py``)
and measured against (``benchmarks/``). The build persists the FAISS index and the bm25s
arrays where LlamaIndex's ``FaissVectorStore`` and ``BM25Retriever`` keep them; the
nodes, which LlamaIndex would keep in a docstore file of its own (a second copy of
every chunk's text), are made here from the stored documents.
"""

from __future__ import annotations

from pathlib import Path

from qa.index import BM25_DIR, STORAGE_DIR, CorpusIndex
from qa.lexical import load_bm25


def nodes_of(index: CorpusIndex) -> list:
    """One LlamaIndex ``TextNode`` per chunk, in FAISS row order, with its source and exact span."""
    from llama_index.core.schema import TextNode

    nodes = []
    for chunk in index.chunks:
        article = index.articles[chunk.source]
        nodes.append(
            TextNode(
                id_=chunk.node_id,
                text=article.text[chunk.start : chunk.end],
                start_char_idx=chunk.start,
                end_char_idx=chunk.end,
                metadata={"source": chunk.source, "date": article.date or ""},
                excluded_embed_metadata_keys=["source", "date"],
                excluded_llm_metadata_keys=["source", "date"],
            )
        )
    return nodes


def vector_index(index: CorpusIndex, build_dir: Path, embed_model):
    """LlamaIndex's ``VectorStoreIndex`` over the build's FAISS file, as
    ``load_index_from_storage`` would give it."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.data_structs import IndexDict
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.vector_stores.faiss import FaissVectorStore

    nodes = nodes_of(index)
    docstore = SimpleDocumentStore()
    docstore.add_documents(nodes)
    structure = IndexDict()
    for row, node in enumerate(nodes):
        structure.add_node(node, text_id=str(row))  # FAISS row -> node, as VectorStoreIndex records it
    storage = StorageContext.from_defaults(
        vector_store=FaissVectorStore.from_persist_dir(str(build_dir / STORAGE_DIR)), docstore=docstore
    )
    return VectorStoreIndex(index_struct=structure, storage_context=storage, embed_model=embed_model)


def bm25_retriever(index: CorpusIndex, build_dir: Path, similarity_top_k: int):
    """LlamaIndex's ``BM25Retriever`` over the build's bm25s arrays."""
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.retrievers.bm25 import BM25Retriever

    bm25 = load_bm25(build_dir / BM25_DIR)
    bm25.corpus = [node_to_metadata_dict(node) | {"node_id": node.node_id} for node in nodes_of(index)]
    return BM25Retriever(existing_bm25=bm25, similarity_top_k=similarity_top_k)
