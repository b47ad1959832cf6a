"""Every clinical number calfsim uses, as data with its citation and evidence tag.

The data files live in ``calfsim/evidence/data`` (one TOML file per topic, plus
``sources.toml``) and are validated on load.
"""

from calfsim.evidence._loader import load_evidence, parse_evidence
from calfsim.evidence._model import Citation, EvidenceBase, EvidenceItem, EvidenceTag

__all__ = [
    "Citation",
    "EvidenceBase",
    "EvidenceItem",
    "EvidenceTag",
    "load_evidence",
    "parse_evidence",
]
