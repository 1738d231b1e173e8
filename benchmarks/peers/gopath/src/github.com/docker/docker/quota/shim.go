// Package quota is a build shim for Strata's moby peers (copied from ../shared/peerbench), NOT moby's implementation.
//
// Debian's golang-github-docker-docker-dev (20.10.24) omits moby's quota/
// directory, which overlay2 and vfs import. Upstream quota only works on XFS
// with project quotas (pquota); on any other backing filesystem NewControl
// returns ErrQuotaNotSupported. This shim always takes that path, which is
// what upstream does on the ext4 backing used by the benchmark.
package quota // import "github.com/docker/docker/quota"

// Quota limit params - currently we only control blocks hard limit.
type Quota struct {
	Size uint64
}

// Control is never constructed by this shim.
type Control struct{}

type errQuotaNotSupported struct{}

func (errQuotaNotSupported) NotImplemented() {}
func (errQuotaNotSupported) Error() string {
	return "Filesystem does not support, or has not enabled quotas (peerbench shim)"
}

// ErrQuotaNotSupported indicates that the backing filesystem has no project quotas.
var ErrQuotaNotSupported = errQuotaNotSupported{}

// NewControl always reports that quotas are unsupported.
func NewControl(basePath string) (*Control, error) { return nil, ErrQuotaNotSupported }

// SetQuota is unreachable (no Control is ever returned).
func (q *Control) SetQuota(targetPath string, quota Quota) error { return ErrQuotaNotSupported }

// GetQuota is unreachable (no Control is ever returned).
func (q *Control) GetQuota(targetPath string, quota *Quota) error { return ErrQuotaNotSupported }
