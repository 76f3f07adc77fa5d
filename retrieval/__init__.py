"""Vector store, embeddings, hybrid search and reranking over the intervention corpus."""
