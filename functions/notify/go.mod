module github.com/dtecl/pipeline/functions/notify

go 1.26
