-- How often did the app call an initial buy a reentry? The app's entry_type
-- against the derived one per app era (README example query; reconciliation
-- report rpt_entry_type_recorded_vs_derived, R3).
select
    app_era,
    recorded_entry_type,
    entry_type,
    sum(order_count) as orders
from {{ ref('rpt_entry_type_recorded_vs_derived') }}
group by all
order by all
