-- Placeholder for another branch's 0019 (s20 only: the lead drops this commit at the merge).
SELECT 1;
