-- Reentry rate: the share of position cycles with at least one executed
-- reentry (R3). MetricFlow twin: mf query --metrics reentry_rate,positions.
select
    count(*) as positions,
    count(*) filter (where has_reentries) as positions_with_reentries,
    round(count(*) filter (where has_reentries) / count(*), 4) as reentry_rate
from {{ ref('fct_positions') }}
