"""Item pipelines, one module each, in the order they run (see ``ITEM_PIPELINES``):

normalize (100) -> validate (200) -> dedupe (300) -> ranking (400) -> store (500)
"""
