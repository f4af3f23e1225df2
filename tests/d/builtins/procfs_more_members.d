/* backends: kernel */
#pragma D option quiet

/*
 * More of procfs.d's translators: the tracer's own thread, running BEGIN,
 * is on CPU (state SRUN, 'R'); its process group and session are the
 * tracer's $pgid and $sid; the members DTrace fills with 0 are 0.
 */
BEGIN
{
	printf("%d %c %d %d\n", curlwpsinfo->pr_state == SRUN, curlwpsinfo->pr_sname,
	    curlwpsinfo->pr_flag, curlwpsinfo->pr_stype);
	printf("%d %d\n", curpsinfo->pr_pgid == $pgid, curpsinfo->pr_sid == $sid);
	printf("%d %d %d\n", curpsinfo->pr_wstat, curpsinfo->pr_taskid,
	    curpsinfo->pr_dmodel == PR_MODEL_LP64);
	exit(0);
}
