"""Files in and out: protocol and intake JSON (the contracts) and prediction/plan JSON."""

from calfsim.io._evidence_json import evidence_to_dict
from calfsim.io._glb import GlbNode, read_glb, read_glb_morph_names, subset_glb, write_glb
from calfsim.io._intake_file import IntakeIn, parse_intake, read_intake
from calfsim.io._plan_json import jsonable, plan_to_dict, session_to_dict
from calfsim.io._prediction_json import prediction_to_dict
from calfsim.io._protocol_file import (
    DEFAULT_DAYS,
    ProtocolIn,
    parse_protocol,
    read_json_file,
    read_protocol,
)
from calfsim.io._scan import (
    MAX_SCAN_BYTES,
    MAX_SCAN_FACES,
    MAX_SCAN_VERTICES,
    SCAN_SUFFIXES,
    legs_to_dict,
    load_scan,
)
from calfsim.io._simulation_files import (
    MESH_COLORS,
    simulation_glb_nodes,
    simulation_glb_parts,
    simulation_to_dict,
    write_simulation_glb,
)

__all__ = [
    "DEFAULT_DAYS",
    "MAX_SCAN_BYTES",
    "MAX_SCAN_FACES",
    "MAX_SCAN_VERTICES",
    "MESH_COLORS",
    "SCAN_SUFFIXES",
    "GlbNode",
    "IntakeIn",
    "ProtocolIn",
    "evidence_to_dict",
    "jsonable",
    "legs_to_dict",
    "load_scan",
    "parse_intake",
    "parse_protocol",
    "plan_to_dict",
    "prediction_to_dict",
    "read_glb",
    "read_glb_morph_names",
    "read_intake",
    "read_json_file",
    "read_protocol",
    "session_to_dict",
    "simulation_glb_nodes",
    "simulation_glb_parts",
    "simulation_to_dict",
    "subset_glb",
    "write_glb",
    "write_simulation_glb",
]
