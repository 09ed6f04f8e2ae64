"""A catalogue competency as an Open Badges 3.0 Achievement: its id (built here and only here),
its rubric version as ResultDescriptions, and the levels an assessment chose as Results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from credentials import build
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.catalogue.rubrics import total_points
from portfolio.issuing.service import ServiceConfig


def achievement_url(competency: Competency, *, public_url: str | None = None) -> str:
    """The Achievement ``id``: ``<public URL>/achievements/<public_id>`` (never changes), from
    the configured public URL (or ``public_url``) — the one place that builds it: credentials,
    evidence, CASE exports and competency image addresses all take it from here."""
    base = (public_url or ServiceConfig.current().public_url).rstrip("/")
    return f"{base}/achievements/{competency.public_id}"


def _criterion_id(base: str, version: RubricVersion, index: int) -> str:
    return f"{base}#rubric-v{version.version}-criterion-{index + 1}"


def _level_id(base: str, version: RubricVersion, criterion: int, level: int) -> str:
    return f"{_criterion_id(base, version, criterion)}-level-{level + 1}"


def _score_id(base: str, version: RubricVersion) -> str:
    return f"{base}#rubric-v{version.version}-total"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def result_descriptions(base: str, version: RubricVersion) -> list[build.ResultDescription]:
    """The rubric ``version`` as OB 3.0 ResultDescriptions (§B.1 ResultDescription).

    One per criterion, of type ``RubricCriterionLevel``, listing the levels
    (``rubricCriterionLevel`` with points) and, under a "min level" mastery rule, the
    ``requiredLevel``; under a points rule one more ``RubricScore`` description carries the
    threshold.  Ids of descriptions and levels carry the rubric version, so a credential's
    results keep meaning what they meant when it was issued.
    """
    rule = version.mastery_rule
    descriptions = []
    for index, criterion in enumerate(version.criteria):
        levels = [
            build.RubricCriterionLevel(
                id=_level_id(base, version, index, j),
                name=level["name"],
                description=(criterion["levels"][j] or level.get("description") or None),
                level=level["name"],
                points=_number(level["points"]),
            )
            for j, level in enumerate(version.levels)
        ]
        required = (
            _level_id(base, version, index, rule["level"]) if rule["kind"] == "min_level" else None
        )
        descriptions.append(
            build.ResultDescription(
                id=_criterion_id(base, version, index),
                name=criterion["name"],
                result_type="RubricCriterionLevel",
                rubric_criterion_level=tuple(levels),
                required_level=required,
            )
        )
    if rule["kind"] == "points":
        most = len(version.criteria) * version.levels[-1]["points"]
        descriptions.append(
            build.ResultDescription(
                id=_score_id(base, version),
                name=f"{version.title}: total points",
                result_type="RubricScore",
                value_min="0",
                value_max=_number(most),
                required_value=_number(rule["threshold"]),
            )
        )
    return descriptions


def results(base: str, version: RubricVersion, chosen: Sequence[int]) -> list[build.Result]:
    """The achieved level per criterion (and the total under a points rule) as Results."""
    out = [
        build.Result(
            result_description=_criterion_id(base, version, index),
            achieved_level=_level_id(base, version, index, level),
        )
        for index, level in enumerate(chosen)
    ]
    if version.mastery_rule["kind"] == "points":
        out.append(
            build.Result(
                result_description=_score_id(base, version),
                value=_number(total_points(version, chosen)),
            )
        )
    return out


def _alignments(competency: Competency) -> tuple[build.Alignment, ...]:
    out = []
    for item in competency.alignments or []:
        out.append(
            build.Alignment(
                target_name=item["targetName"],
                target_url=item["targetUrl"],
                target_code=item.get("targetCode") or None,
                target_description=item.get("targetDescription") or None,
                target_framework=item.get("targetFramework") or None,
                target_type=item.get("targetType") or None,
            )
        )
    return tuple(out)


def achievement_for(
    competency: Competency,
    version: RubricVersion | None = None,
    *,
    public_url: str | None = None,
) -> build.Achievement:
    """The OB 3.0 Achievement of ``competency`` (with rubric ``version`` as results, if any)."""
    base = achievement_url(competency, public_url=public_url)
    tags = list(competency.tags or [])
    if competency.level:
        tags.append(f"Level: {competency.level}")
    return build.Achievement(
        id=base,
        name=competency.name,
        description=competency.description or competency.name,
        criteria=build.Criteria(
            narrative=competency.criteria_narrative or competency.description or competency.name
        ),
        achievement_type=competency.achievement_type or "Competency",
        image=build.Image(id=competency.image_url) if competency.image_url else None,
        alignment=_alignments(competency),
        result_description=tuple(result_descriptions(base, version)) if version else (),
        tag=tuple(tags),
        credits_available=competency.credits,
        human_code=competency.human_code,
        version=f"rubric v{version.version}" if version else None,
    )


def achievement_document(
    competency: Competency, version: RubricVersion | None, *, public_url: str | None = None
) -> dict[str, Any]:
    """The Achievement as a JSON-LD document (served at its ``id``)."""
    document = {
        "@context": [build.VC_V2_CONTEXT, build.OB_CONTEXT],
        **achievement_for(competency, version, public_url=public_url).to_json(),
    }
    return document
