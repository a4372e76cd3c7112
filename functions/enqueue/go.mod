module github.com/dtecl/pipeline/functions/enqueue

go 1.26
