-- Reserved: number 12 belongs to a change made in parallel (issue 14 or 16). This placeholder
-- keeps migrations numbered without gaps until that change lands; it is then replaced by it.
SELECT 1;
