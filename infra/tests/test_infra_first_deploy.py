"""What a fresh account would reject, made right in the template (issue 23).

AZs by ID from AgentCore's supported list, the cross-region profile's destinations in AWS's
documented form, and no synth for a node type without vector search. The facts live in
``semcache_infra/first_deploy.py``; ``infra/preflight.py`` checks an account against them.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import assertions
from infra_helpers import context_with_package, load_app_module, synthesize
from semcache_infra import config_from_context
from semcache_infra.config import ConfigError
from semcache_infra.first_deploy import (
    AGENTCORE_AZ_IDS,
    availability_zone_ids_problem,
    burstable_note,
    vector_search_problem,
)


def _subnet_az_ids(synth) -> list[tuple[str, str]]:
    """(public|private, AvailabilityZoneId) of every subnet, in the VPC's AZ order."""
    rows = []
    vpc = synth.stack.vpc
    for kind, subnets in (("public", vpc.public_subnets), ("private", vpc.private_subnets)):
        for subnet in subnets:
            props = synth.raw["Resources"][synth.stack.get_logical_id(subnet.node.default_child)]
            rows.append((kind, props["Properties"].get("AvailabilityZoneId", "")))
    return rows


class TestAvailabilityZonesById:
    def test_default_subnets_use_agentcore_supported_az_ids_not_names(self, synth) -> None:
        assert _subnet_az_ids(synth) == [
            ("public", "usw2-az1"),
            ("public", "usw2-az2"),
            ("private", "usw2-az1"),
            ("private", "usw2-az2"),
        ]
        for subnet in synth.resources("AWS::EC2::Subnet").values():
            assert "AvailabilityZone" not in subnet["Properties"]
        # No AZ *name* reaches the template (names differ per account).
        assert "us-west-2a" not in json.dumps(synth.raw)
        assert "us-west-2b" not in json.dumps(synth.raw)

    def test_context_override_is_used_in_its_order(self, synth_variant) -> None:
        assert [az for _, az in _subnet_az_ids(synth_variant)] == [
            "usw2-az3",
            "usw2-az1",
            "usw2-az3",
            "usw2-az1",
        ]

    @pytest.mark.parametrize(
        "region,ids,match",
        [
            ("us-west-2", "usw2-az4,usw2-az1", "does not support"),
            ("us-west-2", "usw2-az1", "2 different AZ IDs"),
            ("us-west-2", "usw2-az1,usw2-az1", "2 different AZ IDs"),
            ("us-west-2", "us-west-2a,us-west-2b", "is not an AZ ID"),
            ("eu-west-1", "", "no AgentCore AZ IDs known for eu-west-1"),
        ],
    )
    def test_unsupported_az_ids_are_rejected(self, region: str, ids: str, match: str) -> None:
        ctx = {"region": region, "availabilityZoneIds": ids}
        with pytest.raises(ConfigError, match=match):
            config_from_context(ctx.get, environ={})

    def test_known_regions_default_and_other_regions_take_an_override(self) -> None:
        for region, supported in AGENTCORE_AZ_IDS.items():
            cfg = config_from_context({"region": region}.get, environ={})
            assert cfg.az_ids == supported[:2]
        ctx = {"region": "eu-west-1", "availabilityZoneIds": "euw1-az1, euw1-az2"}
        assert config_from_context(ctx.get, environ={}).az_ids == ("euw1-az1", "euw1-az2")
        assert availability_zone_ids_problem("us-east-1", ("use1-az1", "use1-az4")) is None


class TestNodeTypeHasVectorSearch:
    @pytest.mark.parametrize("node_type", ["cache.r6gd.xlarge", "cache.r6gd.16xlarge"])
    def test_data_tiering_node_stops_the_synth(self, node_type: str, tmp_path) -> None:
        with pytest.raises(ConfigError, match="data-tiering node"):
            synthesize(tmp_path / "out", {"cacheNodeType": node_type})

    def test_previous_generation_t2_stops_the_synth(self, tmp_path) -> None:
        with pytest.raises(ConfigError, match="previous generation"):
            synthesize(tmp_path / "out", {"cacheNodeType": "cache.t2.medium"})

    def test_app_prints_one_line_and_exits_2(self, tmp_path, capsys) -> None:
        main = load_app_module().main
        package = context_with_package()["codePackage"]
        code = main(
            [
                "-c",
                "cacheNodeType=cache.r6gd.xlarge",
                "-c",
                f"codePackage={package}",
                "--outdir",
                str(tmp_path),
            ]
        )
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert err == [err[0]] and err[0].startswith("synth: cacheNodeType cache.r6gd.xlarge")
        assert "Traceback" not in err[0]

    @pytest.mark.parametrize(
        "node_type", ["cache.r7g.large", "cache.r6g.xlarge", "cache.m7g.large", "cache.t4g.medium"]
    )
    def test_search_capable_types_pass(self, node_type: str) -> None:
        assert vector_search_problem(node_type) is None

    def test_burstable_node_synthesizes_with_a_warning(self, tmp_path) -> None:
        synth = synthesize(tmp_path / "out", {"cacheNodeType": "cache.t4g.medium"})
        synth.template.has_resource_properties(
            "AWS::ElastiCache::ReplicationGroup", {"CacheNodeType": "cache.t4g.medium"}
        )
        warnings = assertions.Annotations.from_stack(synth.stack).find_warning(
            "*", assertions.Match.string_like_regexp("burstable node")
        )
        assert len(warnings) == 1, warnings

    def test_burstable_types_get_a_warning(self) -> None:
        assert burstable_note("cache.t4g.medium") is not None
        assert burstable_note("cache.t3.small") is not None
        assert burstable_note("cache.r7g.large") is None
