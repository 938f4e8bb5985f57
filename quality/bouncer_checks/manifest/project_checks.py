"""The project's own dbt-bouncer checks (loaded through `custom_checks_dir` in
quality/dbt-bouncer.yml): what dbt-project-evaluator calls "missing primary key
tests", and source freshness with explicit, reasoned exemptions."""

from dbt_bouncer.check_framework.decorator import check, fail
from dbt_bouncer.utils import get_clean_model_name


def _unfiltered(test) -> bool:
    """A test without `where`: it holds for every row, so it can prove a key."""
    config = getattr(test, "config", None)
    return not getattr(config, "where", None)


def _name(test) -> str:
    metadata = getattr(test, "test_metadata", None)
    return getattr(metadata, "name", "") or ""


@check
def check_model_has_primary_key_test(model, ctx, *, combination_tests: list[str] = ["unique_combination"]):  # noqa: B006
    """Every model's grain is tested: one column with both `unique` and `not_null`, or a
    composite-key test (`combination_tests`, e.g. the project's `unique_combination`)
    whose every column also has `not_null`. Tests filtered with `where` do not count.

    Example:
        manifest_checks:
          - name: check_model_has_primary_key_test
    """
    tests = [t for t in ctx.tests_by_attached_node.get(model.unique_id, []) if _unfiltered(t)]
    not_null = {getattr(t, "column_name", None) for t in tests if _name(t) == "not_null"}
    unique = {getattr(t, "column_name", None) for t in tests if _name(t) == "unique"}
    if (unique & not_null) - {None}:
        return
    for test in tests:
        if _name(test) in combination_tests:
            kwargs = getattr(getattr(test, "test_metadata", None), "kwargs", None) or {}
            columns = kwargs.get("combination_of_columns") or []
            if columns and set(columns) <= not_null:
                return
    fail(
        f"`{get_clean_model_name(model.unique_id)}` has no primary-key test: give one column `unique` and "
        f"`not_null`, or add `{combination_tests[0]}` on the grain with `not_null` on each of its columns "
        "(tests with `where` do not count)."
    )


@check
def check_source_freshness_unless_exempt(source, *, exempt: dict[str, str] = {}):  # noqa: B006
    """Every source table has a freshness (`warn_after` or `error_after`) and a
    `loaded_at_field`, unless it is listed in `exempt` as `source.table: reason`.

    Example:
        manifest_checks:
          - name: check_source_freshness_unless_exempt
            exempt:
              trading_app.rejected_lines: empty whenever every line parses
    """
    name = f"{source.source_name}.{source.name}"
    if name in exempt:
        return
    freshness = getattr(source, "freshness", None)

    def populated(threshold) -> bool:
        return bool(threshold) and getattr(threshold, "count", None) is not None \
            and getattr(threshold, "period", None) is not None

    if freshness is None or not (populated(getattr(freshness, "warn_after", None))
                                 or populated(getattr(freshness, "error_after", None))):
        fail(f"source `{name}` has no freshness (warn_after/error_after); add one or exempt it with a reason.")
    if not getattr(source, "loaded_at_field", None) and not getattr(getattr(source, "config", None),
                                                                    "loaded_at_field", None):
        fail(f"source `{name}` has a freshness but no `loaded_at_field`.")
