-- How many rows of the app's positions table can be trusted, and what is wrong
-- with the others? (README example query; reconciliation report
-- rpt_positions_table_vs_derived, R2, R5).
select
    coalesce(difference_reasons, 'consistent') as reasons,
    count(*) as position_rows
from {{ ref('rpt_positions_table_vs_derived') }}
group by all
order by position_rows desc
