"""MindSignal orchestration: settings, app factory, LLM adapters, pipeline, safety gate, CLI."""
