-- What was quarantined, and why? (README example query, "Bad input and
-- reconciliation"). Every raw row that cannot be used is in quarantined_rows
-- with its reason (R6).
select
    source_table,
    quarantine_reason,
    count(*) as quarantined
from {{ ref('quarantined_rows') }}
group by all
order by quarantined desc
