// Package v2 is a build shim for Strata's moby peers (copied from ../shared/peerbench), NOT moby's plugin/v2.
//
// Debian's golang-github-docker-docker-dev (20.10.24) omits moby's plugin/
// tree; daemon/graphdriver/plugin.go only needs the *Plugin type for a type
// assertion on the graphdriver-plugin path, which the peers never take
// (drivers are initialised directly through their Init functions).
package v2 // import "github.com/docker/docker/plugin/v2"

import (
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/pkg/plugins"
)

// Plugin carries just enough of moby's plugin object for graphdriver/plugin.go.
type Plugin struct {
	PluginObj types.Plugin `json:"plugin"`
}

// Name returns the plugin name.
func (p *Plugin) Name() string { return p.PluginObj.Name }

// ScopedPath returns the path unchanged.
func (p *Plugin) ScopedPath(s string) string { return s }

// IsV1 reports false, as for moby's v2 plugins.
func (p *Plugin) IsV1() bool { return false }

// Client returns nil: this shim has no plugin client.
func (p *Plugin) Client() *plugins.Client { return nil }
