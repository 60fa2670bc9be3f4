// nf-core-style process definitions for tmbcalc (DSL2).  Not run in tmbcalc's test suite
// (no Nextflow on the development machine); see ../README.md.

process TMBCALC_TMB {
    tag "$meta.id"
    label 'process_single'

    input:
    tuple val(meta), path(calls), path(tumor_bam), path(tumor_bai), path(normal_bam), path(normal_bai)
    path footprint_bed

    output:
    tuple val(meta), path("${meta.id}.tmb.json")        , emit: json
    tuple val(meta), path("${meta.id}.tmb.tsv")         , emit: tsv
    tuple val(meta), path("${meta.id}.variants.tsv.gz") , emit: variants
    path "versions.yml"                                 , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def bams = tumor_bam ? "--tumor-bam ${tumor_bam}" + (normal_bam ? " --normal-bam ${normal_bam}" : '') : ''
    """
    tmbcalc tmb ${calls} --bed ${footprint_bed} ${bams} --sample ${meta.id} --threads ${task.cpus} \\
        ${args} -o ${meta.id}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        tmbcalc: \$(tmbcalc --version | sed 's/tmbcalc //')
    END_VERSIONS
    """

    stub:
    """
    touch ${meta.id}.tmb.json ${meta.id}.tmb.tsv
    echo | gzip > ${meta.id}.variants.tsv.gz
    echo '"${task.process}": {tmbcalc: stub}' > versions.yml
    """
}

process TMBCALC_MSI_SCORE {
    tag "$meta.id"
    label 'process_single'

    input:
    tuple val(meta), path(tumor_bam), path(tumor_bai), path(normal_bam), path(normal_bai)
    path loci

    output:
    tuple val(meta), path("${meta.id}.msi.json")        , emit: json
    tuple val(meta), path("${meta.id}.msi_loci.tsv.gz") , emit: loci
    path "versions.yml"                                 , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    """
    tmbcalc msi score ${tumor_bam} --normal-bam ${normal_bam} --loci ${loci} --sample ${meta.id} \\
        --threads ${task.cpus} ${args} -o ${meta.id} > /dev/null

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        tmbcalc: \$(tmbcalc --version | sed 's/tmbcalc //')
    END_VERSIONS
    """

    stub:
    """
    touch ${meta.id}.msi.json
    echo | gzip > ${meta.id}.msi_loci.tsv.gz
    echo '"${task.process}": {tmbcalc: stub}' > versions.yml
    """
}
