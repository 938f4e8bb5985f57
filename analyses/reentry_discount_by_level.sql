-- How much do reentries lower the entry price, by level? (README example query;
-- MetricFlow twin: mf query --metrics avg_reentry_discount_pct,reentries
-- --group-by reentry__reentry_level). pct_vs_initial_price is negative when the
-- reentry filled below the cycle's opening price (R4, R5).
select
    reentry_level,
    count(*) as reentries,
    round(avg(pct_vs_initial_price), 2) as avg_pct_vs_initial
from {{ ref('fct_reentries') }}
group by reentry_level
order by reentry_level desc
