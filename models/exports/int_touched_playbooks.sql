-- The playbooks whose latest version this run must decide again: those with a new row (on a
-- full build, every playbook).

select distinct playbook_id
from {{ ref('int_new_evidence') }}
where stream = 'playbooks'
