-- Why does the app's entry_type disagree with the derived one? (README example
-- query; the rows behind rpt_entry_type_recorded_vs_derived, R3).
select
    likely_cause,
    count(*) as disagreements
from {{ ref('rpt_entry_type_disagreements') }}
group by all
