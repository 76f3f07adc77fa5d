"""Gradio shell: builds the Blocks and calls assistant/; holds no logic."""
