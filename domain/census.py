"""School census SEN codes and the rules that tie provision to ranked need types (statutory.md)."""

from __future__ import annotations

from enum import StrEnum


class SenProvision(StrEnum):
    E = "E"  # EHC plan
    K = "K"  # SEN support
    N = "N"  # no special educational need


class NeedType(StrEnum):
    SPLD = "SPLD"
    MLD = "MLD"
    SLD = "SLD"
    PMLD = "PMLD"
    SEMH = "SEMH"
    SLCN = "SLCN"
    ASD = "ASD"
    HI = "HI"
    VI = "VI"
    MSI = "MSI"
    PD = "PD"
    OTH = "OTH"
    NSA = "NSA"


def validate_sen_record(provision: str, needs: list[str]) -> None:
    """Raise ValueError with the census reason when provision and ranked needs disagree."""
    if provision == "S":
        raise ValueError("provision S (statement) is obsolete: use E for an EHC plan")
    if len(needs) > 2:
        raise ValueError("at most two ranked need types (rank 1 and rank 2)")
    if len(set(needs)) != len(needs):
        raise ValueError("rank 1 and rank 2 need types must differ")
    if provision in ("E", "K") and not needs:
        raise ValueError(f"provision {provision} needs at least a rank-1 need type")
    if provision == "N" and needs:
        raise ValueError("provision N carries no need type")
    if "NSA" in needs and provision != "K":
        raise ValueError("NSA (no specialist assessment) is only valid with SEN support (K)")
