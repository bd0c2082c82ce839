"""The machinery behind :mod:`cadence.diagram`: one graph model, its Mermaid and DOT writers,
the text tree, and the rendering and saving of files. Public names live in :mod:`cadence.diagram`."""
