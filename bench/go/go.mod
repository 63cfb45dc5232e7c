module zdm/bench

go 1.22

require (
	github.com/golang/snappy v1.0.0
	github.com/pierrec/lz4/v4 v4.1.33
)
